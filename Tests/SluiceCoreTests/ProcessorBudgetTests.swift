import SluiceCore
import Testing

@Suite struct ProcessorBudgetParts {
    @Test func aQuotaIsRoundedUpAndMaxMeansNone() {
        #expect(ProcessorBudget.quotaCores("max 100000\n") == nil)
        #expect(ProcessorBudget.quotaCores("200000 100000\n") == 2)
        #expect(ProcessorBudget.quotaCores("150000 100000") == 2)
        #expect(ProcessorBudget.quotaCores("50000 100000") == 1)
        #expect(ProcessorBudget.quotaCores("400000 50000") == 8)
        #expect(ProcessorBudget.quotaCores("") == nil)
        #expect(ProcessorBudget.quotaCores("garbage") == nil)
    }

    @Test func theSmallestOfOnlineAffinityAndEveryQuotaOnTheWayToTheRoot() {
        #expect(ProcessorBudget.cores(online: 16, affinity: 16, quotas: ["max 100000"]) == 16)
        // A container limited to 2 CPUs on a 16-core node.
        #expect(ProcessorBudget.cores(online: 16, affinity: 16, quotas: ["200000 100000", "max 100000"]) == 2)
        // A parent's quota binds the child too.
        #expect(ProcessorBudget.cores(online: 16, affinity: 16, quotas: ["max 100000", "300000 100000"]) == 3)
        // taskset -c 0,1 on a machine without quotas.
        #expect(ProcessorBudget.cores(online: 8, affinity: 2, quotas: []) == 2)
        #expect(ProcessorBudget.cores(online: 4, affinity: nil, quotas: ["10000 100000"]) == 1)
        #expect(ProcessorBudget.cores(online: 0, affinity: nil, quotas: []) == 1)
    }

    @Test func aCPUListIsCounted() {
        #expect(ProcessorBudget.cpuListCount("0-3,6\n") == 5)
        #expect(ProcessorBudget.cpuListCount("\t 0-1 \n") == 2)
        #expect(ProcessorBudget.cpuListCount("0") == 1)
        #expect(ProcessorBudget.cpuListCount("0-1,4-5,9") == 5)
        #expect(ProcessorBudget.cpuListCount("") == nil)
        #expect(ProcessorBudget.cpuListCount("3-1") == nil)
    }

    @Test func everyCgroupFromTheProcessesToTheRootHasItsQuotaFile() {
        #expect(ProcessorBudget.quotaFiles(cgroup: "/kubepods/pod1/c2") == [
            "/sys/fs/cgroup/kubepods/pod1/c2/cpu.max", "/sys/fs/cgroup/kubepods/pod1/cpu.max", "/sys/fs/cgroup/kubepods/cpu.max", "/sys/fs/cgroup/cpu.max",
        ])
        #expect(ProcessorBudget.quotaFiles(cgroup: "/") == ["/sys/fs/cgroup/cpu.max"])
        #expect(ProcessorBudget.quotaFiles(cgroup: "/system.slice/sluice.service/") == [
            "/sys/fs/cgroup/system.slice/sluice.service/cpu.max", "/sys/fs/cgroup/system.slice/cpu.max", "/sys/fs/cgroup/cpu.max",
        ])
    }

    @Test func systemFilesAreReadWholeWithoutFoundation() {
        let status = SystemFile.text("/proc/self/status")
        #expect(status?.hasPrefix("Name:") == true && status?.contains("Cpus_allowed_list:") == true)
        // /proc/self/maps of a test process is far past one 4 KiB read, and /proc reports size 0.
        let maps = SystemFile.text("/proc/self/maps") ?? ""
        #expect(maps.utf8.count > 8192 && maps.hasSuffix("\n"), "\(maps.utf8.count) bytes")
        #expect(SystemFile.text("/proc/self/no-such-file") == nil)
    }

    @Test func thisProcessHasABudgetWithinItsOnlineCores() {
        #expect(ProcessorBudget.cores >= 1)
    }
}
