/// Studio's page: plain HTML, CSS and JavaScript modules under `Assets/`, embedded in the binary
/// at build time (`resources: [.embedInCode(...)]` in Package.swift), so `sluice serve` needs no
/// files beside it and the page fetches nothing from anywhere but the service itself.
public enum StudioAssets {
    public struct Asset: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
    }

    /// Where the page's files are served (the page itself is `/`).
    public static let prefix = "/studio/assets/"

    /// The files by name.
    static let files: [String: Asset] = [
        "index.html": Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "studio.css": Asset(bytes: PackageResources.studio_css, contentType: "text/css; charset=utf-8"),
        "studio.js": Asset(bytes: PackageResources.studio_js, contentType: "text/javascript; charset=utf-8"),
        "editor.js": Asset(bytes: PackageResources.editor_js, contentType: "text/javascript; charset=utf-8"),
        "highlight.js": Asset(bytes: PackageResources.highlight_js, contentType: "text/javascript; charset=utf-8"),
        "api.js": Asset(bytes: PackageResources.api_js, contentType: "text/javascript; charset=utf-8"),
        "live.css": Asset(bytes: PackageResources.live_css, contentType: "text/css; charset=utf-8"),
        "dom.js": Asset(bytes: PackageResources.dom_js, contentType: "text/javascript; charset=utf-8"),
        "charts.js": Asset(bytes: PackageResources.charts_js, contentType: "text/javascript; charset=utf-8"),
        "rollouts.js": Asset(bytes: PackageResources.rollouts_js, contentType: "text/javascript; charset=utf-8"),
        "recordings.js": Asset(bytes: PackageResources.recordings_js, contentType: "text/javascript; charset=utf-8"),
        "recordings.css": Asset(bytes: PackageResources.recordings_css, contentType: "text/css; charset=utf-8"),
    ]

    /// The page (`/`).
    public static var page: Asset { files["index.html"]! }

    /// A file of the page by its name under ``prefix``, or nil.
    public static func asset(named name: String) -> Asset? { files[name] }

    /// The names of every file.
    public static var names: [String] { files.keys.sorted() }

    /// The Content-Security-Policy of every Studio response: scripts, styles and requests only
    /// from the service itself, no inline script or style, no plugins, no framing.
    public static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The headers every Studio response carries.
    public static let securityHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy", contentSecurityPolicy),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ]
}
