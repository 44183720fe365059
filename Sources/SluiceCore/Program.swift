/// What an executor runs: a transformation with every library it links, under a content id —
/// the unit compiled once and cached (in this process or in a worker process, which the server
/// ships it to the first time; afterwards the id alone names it).
public struct Program: Sendable {
    /// The content id (a version id, or a hash for tooling code).
    public var id: String
    public var source: TransformationSource
    public var libraries: [LibrarySource]
    /// Compiled for one request only (tooling endpoints) and not kept in the worker's cache.
    public var ephemeral: Bool
    /// Where ``libraries`` were looked up (``LibraryProvider/searchedPlaces``), for the message of
    /// an import that found nothing; not part of the content id.
    public var libraryPlaces: [String] = []

    public init(id: String, source: TransformationSource, libraries: [LibrarySource], ephemeral: Bool = false) {
        self.id = id
        self.source = source
        self.libraries = libraries
        self.ephemeral = ephemeral
    }
}
