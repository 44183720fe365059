/// Sluice's version, the one source of every place that reports it: `sluice --version`,
/// `GET /version`, `/health`'s `version`, and the release tarball's name (`scripts/package.sh`
/// reads it from the built binary).
public enum SluiceVersion {
    public static let current = "0.1.0"
}
