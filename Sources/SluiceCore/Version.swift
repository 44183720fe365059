/// Sluice's version, as `GET /version` reports it.
public enum SluiceVersion {
    public static let current = "0.1.0"
}
