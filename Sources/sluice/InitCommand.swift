import ArgumentParser
import Foundation
import SluiceCore
import SluiceTesting

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a project: a transformation with a passing snapshot case, a library it imports, .gitignore and a CI workflow.",
        discussion: """
        Writes transformations/<name>/ (transformation.json, the code, tests/sample/ with sample events and their expected results), libraries/normalize.js (or .py), .gitignore and .github/workflows/sluice.yml (runs sluice test --junit). `sluice test` passes in the new project straight away. Refuses to overwrite a file that exists (naming each) unless --force is given; other files in DIR are left alone.
        """
    )

    @Argument(help: "The project folder (created when missing; default: the current folder).")
    var directory: String = "."

    @Option(name: .long, help: "javascript or python.")
    var language: String = "javascript"

    @Option(name: .long, help: "The transformation's name and folder name.")
    var name: String = ProjectTemplate.defaultName

    @Flag(name: .long, help: "Overwrite files that exist.")
    var force = false

    func validate() throws {
        guard Language(name: language) != nil else {
            throw ValidationError("--language must be javascript or python (got \(language))")
        }
    }

    func run() throws {
        let template: ProjectTemplate
        let written: [String]
        do {
            template = try ProjectTemplate(language: Language(name: language)!, name: name)
            written = try template.write(into: directory, overwrite: force)
        } catch {
            throw CLIError("\(error)")
        }
        let language = template.language == .javascript ? "JavaScript" : "Python"
        print("Created a \(language) project in \(directory):")
        for path in written { print("  " + path) }
        print("\nNext:")
        for step in (directory == "." ? [] : ["cd \(directory)"]) + template.nextSteps { print("  " + step) }
    }
}
