import ArgumentParser
import Foundation
import NexusBuild
import NexusCore
import NexusProject
import NexusSQL
import NexusWarehouse

extension Nexus {
    struct SQLFiles: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sql",
            abstract: "Run files of SQL statements on the project's warehouse, in order (for example a compiled run).",
            discussion: """
                Statements are separated by semicolons (not inside strings, quoted names, comments or $$ bodies). \
                A query's rows are printed; the first failing statement stops the run with its file and line. \
                On SQLite the statements can call nexus's SQL functions (md5, to_timestamp_ntz, …).
                """)
        @OptionGroup var options: ProjectOption
        @Argument(help: "SQL files, run in the order given.")
        var files: [String]

        func run() throws {
            try Nexus.guarded {
                let project = try options.load()
                let warehouse = try Warehouses.open(project)
                let lock = try warehouse.lock(.build, timeout: project.config.warehouse.lockTimeout)
                defer { lock.release() }
                var count = 0
                for file in files {
                    let text: String
                    do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                        throw NexusError("sql", "cannot read \(file): \(error.localizedDescription)")
                    }
                    for s in SQLScript.statements(text) {
                        do {
                            if SQLFiles.returnsRows(s.text) {
                                let r = try warehouse.query(s.text)
                                if !r.columns.isEmpty {
                                    print(TextTable.render(header: r.columns, rows: r.rows.map { $0.map { $0.string ?? "NULL" } }, rightAligned: []))
                                }
                            } else {
                                try warehouse.execute(s.text)
                            }
                        } catch let e as NexusError {
                            throw NexusError("sql", "\(file), line \(s.line): \(e.message)")
                        }
                        count += 1
                    }
                }
                FileHandle.standardError.write(Data("nexus: ran \(count) statement(s) from \(files.count) file(s) on \(warehouse.location)\n".utf8))
            }
        }

        static func returnsRows(_ sql: String) -> Bool {
            guard let first = SQLLexer.significantTokens(sql).first?.word else { return false }
            return ["select", "with", "show", "values", "describe", "explain"].contains(first)
        }
    }
}
