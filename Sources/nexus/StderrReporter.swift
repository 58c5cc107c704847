import ArgumentParser
import Foundation
import NexusBuild
import NexusCore
import NexusOutputs
import NexusProject
import NexusSQL
import NexusScaffold
import NexusWarehouse

final class StderrReporter: RunReporter {
    var warnings = 0
    func step(_ r: StepResult) {
        let rows = r.rows.map { "\(TextTable.group($0)) rows" } ?? ""
        let note = r.note.map { "  (\($0))" } ?? ""
        let line = "  \(r.kind.padding(toLength: 7, withPad: " ", startingAt: 0)) \(r.name.padding(toLength: 38, withPad: " ", startingAt: 0)) \(rows.leftPadded(16))  \(String(format: "%7.2f s", r.seconds))\(note)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
    func warning(_ message: String) {
        warnings += 1
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
