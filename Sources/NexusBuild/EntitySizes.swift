import NexusCore
import NexusWarehouse

/// The largest entities of one type, read from its mapping table (one row per identifier):
/// what a run reports and what doctor lists as likely over-merges.
struct EntitySizes {
    struct Entity {
        var id: String
        var identifiers: Int
        var emails: Int
        var phones: Int
    }

    let warehouse: any Warehouse
    /// `nexus_resolved_<type>_identifiers`, under the name to read it by.
    let table: String
    /// `<type>_id`.
    let idColumn: String

    /// The `limit` largest entities with more than `above` identifiers, largest first (ties:
    /// the smallest id in byte order).
    ///
    /// Sizes first (a count per entity, read along the index on the entity id), then the
    /// emails and phones of those few only: counting distinct values for every entity took
    /// 12 s at 1,000,000 persons, the sizes alone under 1 s.
    func largest(_ limit: Int, above: Int = 0) throws -> [Entity] {
        let d = warehouse.dialect, id = d.quote(idColumn)
        let top = try warehouse.query("""
            SELECT \(sql: id), count(*) FROM \(id: table) GROUP BY \(sql: id) HAVING count(*) > \(above)
            ORDER BY count(*) DESC, \(sql: d.byteOrder(id)) LIMIT \(limit)
            """ as SQL).rows
        func n(_ v: SQLValue) -> Int { Int(v.string ?? "") ?? 0 }
        return try top.compactMap { r in
            guard let entity = r[0].string else { return nil }
            let kinds = try warehouse.query("""
                SELECT count(DISTINCT CASE WHEN identifier_type = 'email' THEN identifier_value END),
                       count(DISTINCT CASE WHEN identifier_type = 'phone' THEN identifier_value END)
                FROM \(id: table) WHERE \(sql: id) = \(entity)
                """ as SQL).rows.first ?? [.integer(0), .integer(0)]
            return Entity(id: entity, identifiers: n(r[1]), emails: n(kinds[0]), phones: n(kinds[1]))
        }
    }

    /// How many entities have more than `above` identifiers.
    func count(above: Int) throws -> Int {
        let id = warehouse.dialect.quote(idColumn)
        return try warehouse.integer("""
            SELECT count(*) FROM (SELECT \(sql: id) FROM \(id: table) GROUP BY \(sql: id) HAVING count(*) > \(above)) AS large
            """ as SQL)
    }

    /// One identifier of `entity` (the smallest), to open it with the explainer.
    func anyIdentifier(of entity: String) throws -> (type: String, value: String)? {
        let d = warehouse.dialect
        guard let r = try warehouse.query("""
            SELECT identifier_type, identifier_value FROM \(id: table) WHERE \(id: idColumn) = \(entity)
            ORDER BY \(sql: d.byteOrder("identifier_type")), \(sql: d.byteOrder("identifier_value")) LIMIT 1
            """ as SQL).rows.first, let type = r[0].string, let value = r[1].string else { return nil }
        return (type, value)
    }
}
