import Foundation

/// The series of shadow runs (``ShadowRuns``), per transformation.
extension ServiceMetrics {
    /// A candidate batch was compared: its events, and how many fell in each class
    /// (``ReplaySummary/kinds``, spaces as underscores in the `outcome` label).
    func shadowCompared(transformation: String, events: Int, classes: [String: Int]) {
        let labels = [("transformation", transformation)]
        count("sluice_shadow_sampled_events_total", labels, by: events)
        for (kind, number) in classes {
            count("sluice_shadow_events_total", labels + [("outcome", kind.replacingOccurrences(of: " ", with: "_"))], by: number)
        }
    }

    /// A sampled batch was dropped: `busy`, `in_flight` or `cpu_share`.
    func shadowSkipped(transformation: String, reason: String) {
        count("sluice_shadow_skipped_batches_total", [("transformation", transformation), ("reason", reason)])
    }
}
