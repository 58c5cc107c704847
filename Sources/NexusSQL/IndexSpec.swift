/// An index a build creates on a table: a model's `config(indexes=[…])` entry (dbt-postgres's
/// spelling), an entry of `indexes:` in nexus.yml, or one of nexus's own on its tables.
public struct IndexSpec: Sendable, Hashable, CustomStringConvertible {
    public var columns: [String]
    public var unique: Bool
    /// Leaves out rows whose first column is NULL: a partial index for sparse columns such as
    /// traits. SQLite still uses it for `col = ?`, which never matches NULL.
    public var skipsNulls: Bool

    public init(columns: [String], unique: Bool = false, skipsNulls: Bool = false) {
        self.columns = columns; self.unique = unique; self.skipsNulls = skipsNulls
    }

    /// `(a, b)`, `unique (a)`: how messages name it.
    public var description: String { (unique ? "unique " : "") + "(" + columns.joined(separator: ", ") + ")" }

    /// The `CREATE INDEX` statement for this index under `name` on `table`.
    public func createStatement(name: String, table: String, dialect d: any SQLDialect) -> String {
        let cols = columns.map { d.quote($0) }.joined(separator: ", ")
        let partial = skipsNulls ? " WHERE \(d.quote(columns[0])) IS NOT NULL" : ""
        return "CREATE \(unique ? "UNIQUE " : "")INDEX \(d.quote(name)) ON \(d.quote(table)) (\(cols))\(partial)"
    }
}
