import NexusSQL
import NexusWarehouse

/// `userId`s as Customer.io will see them. It keys people by the exact string, so a
/// `userId` with blanks around it, or one that differs from another only by letter case,
/// makes a second person where the data means one.
public struct UserIDCheck {
    let warehouse: any Warehouse

    public init(warehouse: any Warehouse) { self.warehouse = warehouse }

    /// One line per problem found in `outputs` (those with a `userId` column); empty when none.
    public func problems(in outputs: [String]) throws -> [(output: String, message: String)] {
        let d = warehouse.dialect
        let user = d.quote("userId")
        var out: [(String, String)] = []
        var withUser: [String] = []
        for o in outputs where try warehouse.columns(of: o)?.contains(where: { $0.name == "userId" }) == true {
            withUser.append(o)
            let n = try warehouse.integer("SELECT count(*) FROM \(d.quote(o)) WHERE \(user) <> \(d.trimBlanks(user))")
            if n > 0 {
                out.append((o, "\(n) row(s) have a userId with blanks before or after it: Customer.io would keep ' a@x.test' and 'a@x.test' as two people"))
            }
        }
        guard !withUser.isEmpty else { return out }
        // Every spelling of every id across the outputs, grouped by its trimmed, lower-cased form.
        let ids = withUser.map { "SELECT DISTINCT \(user) AS u FROM \(d.quote($0)) WHERE \(user) IS NOT NULL" }.joined(separator: " UNION ")
        let groups = try warehouse.query("""
            SELECT k, \(d.stringAgg("u", separator: " / ", orderBy: "u")) FROM (SELECT lower(\(d.trimBlanks("u"))) AS k, u FROM (\(ids)) AS ids) AS spelled
            GROUP BY k HAVING count(*) > 1 ORDER BY k
            """).rows
        if !groups.isEmpty {
            let examples = groups.prefix(3).map { "'" + ($0[1].string ?? "") + "'" }.joined(separator: "; ")
            out.append((withUser.joined(separator: ", "),
                        "\(groups.count) userId(s) are spelled more than one way, differing only in letter case or blanks (\(examples)): Customer.io would keep each spelling as a different person; send them trimmed and lower-cased (nexus.customer_io_identify(normalize_user_id=true), or lower(trim(...)) in the model)"))
        }
        return out
    }
}
