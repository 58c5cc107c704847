/// dbt-nexus's id scheme: `<prefix>_` + lowercase hex md5 of the parts joined by `-`.
///
/// A NULL part is spelled `_dbt_utils_surrogate_key_null_`, as dbt_utils does, so that
/// nexus and dbt-nexus give the same ids to the same data.
public enum NexusID {
    public static let nullToken = "_dbt_utils_surrogate_key_null_"

    static let prefixes: [String: String] = [
        "event": "evt", "person": "per", "group": "grp", "membership": "mem", "relationship": "rel",
        "state": "st", "entity_state": "es", "person_identifier": "per_idfr", "group_identifier": "grp_idfr",
        "entity_identifier": "ent_idfr", "person_trait": "per_tr", "group_trait": "grp_tr",
        "entity_trait": "ent_tr", "relationship_declaration": "rel_decl", "person_edge": "per_edg",
        "group_edge": "grp_edg", "entity_edge": "ent_edg", "person_participant": "per_prt",
        "group_participant": "grp_prt", "entity_participant": "ent_prt", "nexus": "nx", "touchpoint": "tch",
        "attribution_deduplication_key": "att_dedup", "touchpoint_path": "tch_path",
        "touchpoint_path_batch": "tch_batch", "attribution_model_result": "attr_res",
        "event_measurement": "evt_msr", "event_dimension": "evt_dim", "anomaly": "anom",
        "computed_trait": "ct", "scope": "scp", "auth_identity": "auth",
    ]

    /// The prefix of a kind; any kind not in dbt-nexus's table uses its first three characters.
    ///
    /// Unlike dbt-nexus, `entity_participant` maps to `ent_prt` (decisions.md item 4).
    public static func prefix(for kind: String) -> String {
        prefixes[kind] ?? String(kind.prefix(3))
    }

    /// `create_nexus_id(kind, parts)`.
    public static func make(_ kind: String, _ parts: [String?]) -> String {
        prefix(for: kind) + "_" + md5Hex(parts.map { $0 ?? nullToken }.joined(separator: "-"))
    }

    /// Lowercase hex md5 of a string's UTF-8 bytes.
    public static func md5Hex(_ s: String) -> String {
        var s = s
        return s.withUTF8 { md5Hex(UnsafeRawBufferPointer($0)) }
    }

    /// Lowercase hex md5 of raw bytes.
    public static func md5Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: 32) { out in
            MD5.hex(bytes, into: out.baseAddress!)
            return 32
        }
    }

    /// Lowercase hex md5 of raw bytes, and its first 64 bits as a number (for hash tables).
    public static func md5HexAndPrefix(_ bytes: UnsafeRawBufferPointer) -> (hex: String, prefix: UInt64) {
        let digest = MD5.digest(bytes)
        let hex = String(unsafeUninitializedCapacity: 32) { out in
            MD5.hex(digest: digest, into: out.baseAddress!)
            return 32
        }
        return (hex, MD5.prefix64(digest))
    }
}
