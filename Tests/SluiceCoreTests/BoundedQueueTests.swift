import SluiceCore
import Testing

@Suite struct BoundedQueueTests {
    @Test func tryPushRefusesWhenFullAndKeepsOrder() {
        let queue = BoundedQueue<Int>(capacity: 2)
        #expect(queue.tryPush(1))
        #expect(queue.tryPush(2))
        #expect(!queue.tryPush(3))
        #expect(queue.pop() == 1)
        #expect(queue.tryPush(4))
        #expect(queue.pop() == 2)
        #expect(queue.pop() == 4)
    }

    @Test func aBlockedPushResumesWhenAConsumerTakes() {
        let queue = BoundedQueue<Int>(capacity: 1)
        let done = BoundedQueue<Bool>(capacity: 1)
        queue.push(1)
        startThread {
            queue.push(2)  // waits until the main thread pops
            done.push(true)
        }
        #expect(queue.pop() == 1)
        #expect(done.pop())
        #expect(queue.pop() == 2)
    }
}
