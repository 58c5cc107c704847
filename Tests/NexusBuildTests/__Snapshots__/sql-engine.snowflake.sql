SELECT count(*) FROM "__nexus_stage__nexus_events";

SELECT count(*) FROM "__nexus_stage__nexus_entity_identifiers";

SELECT count(*) FROM "__nexus_stage__nexus_entity_traits";

SELECT count(*) FROM "__nexus_stage__nexus_relationship_declarations";

SELECT coalesce(entity_type, 'NULL'), count(*) FROM "__nexus_stage__nexus_entity_identifiers"
WHERE entity_type IS NULL OR entity_type NOT IN ('person', 'group') GROUP BY coalesce(entity_type, 'NULL') ORDER BY 1;

SELECT count(*) FROM "__nexus_stage__nexus_entity_identifiers" WHERE entity_type IN ('person', 'group') AND (identifier_type IS NULL OR identifier_value IS NULL);

CREATE TRANSIENT TABLE "__nexus_stage__work_occurrences" (node NUMBER(38,0), entity_type VARCHAR, identifier_type VARCHAR, identifier_value VARCHAR, edge_id VARCHAR, event_id VARCHAR, role VARCHAR, occurred_at TIMESTAMP_NTZ, source VARCHAR);

INSERT INTO "__nexus_stage__work_occurrences" (node, entity_type, identifier_type, identifier_value, edge_id, event_id, role, occurred_at, source)
SELECT dense_rank() OVER (ORDER BY collate(entity_type, ''), collate(identifier_type, ''), collate(identifier_value, '')),
       entity_type, identifier_type, identifier_value, edge_id, event_id, role, occurred_at, source
FROM "__nexus_stage__nexus_entity_identifiers"
WHERE entity_type IN ('person', 'group') AND identifier_type IS NOT NULL AND identifier_value IS NOT NULL;

CREATE TRANSIENT TABLE "__nexus_stage__work_nodes" (node NUMBER(38,0) PRIMARY KEY, entity_type VARCHAR, identifier_type VARCHAR, identifier_value VARCHAR, label NUMBER(38,0));

INSERT INTO "__nexus_stage__work_nodes" (node, entity_type, identifier_type, identifier_value, label)
SELECT node, min(entity_type), min(identifier_type), min(identifier_value), node FROM "__nexus_stage__work_occurrences" GROUP BY node;

CREATE TRANSIENT TABLE "__nexus_stage__work_left_out" (node NUMBER(38,0), entity_type VARCHAR, identifier_type VARCHAR, identifier_value VARCHAR);

CREATE TRANSIENT TABLE "__nexus_stage__work_cut" (node NUMBER(38,0));

CREATE TRANSIENT TABLE "__nexus_stage__work_candidates" AS
SELECT o.node FROM (SELECT node, entity_type, edge_id FROM "__nexus_stage__work_occurrences" WHERE edge_id IS NOT NULL) AS o
JOIN (SELECT entity_type, edge_id, count(*) AS size FROM (SELECT node, entity_type, edge_id FROM "__nexus_stage__work_occurrences" WHERE edge_id IS NOT NULL) AS l GROUP BY entity_type, edge_id HAVING count(*) > 1) g
  ON g.entity_type = o.entity_type AND g.edge_id = o.edge_id
GROUP BY o.node HAVING sum(g.size - 1) > 10;

CREATE TRANSIENT TABLE "__nexus_stage__work_members" (entity_type VARCHAR, edge_id VARCHAR, node NUMBER(38,0));

SELECT count(*) FROM "__nexus_stage__work_candidates";

CREATE TRANSIENT TABLE "__nexus_stage__work_partners" AS
SELECT c.node, count(DISTINCT nb.identifier_value) AS partners FROM "__nexus_stage__work_candidates" c
JOIN "__nexus_stage__work_members" a ON a.node = c.node
JOIN "__nexus_stage__work_members" b ON b.entity_type = a.entity_type AND b.edge_id = a.edge_id AND b.node <> a.node
JOIN "__nexus_stage__work_nodes" nb ON nb.node = b.node
GROUP BY c.node HAVING count(DISTINCT nb.identifier_value) > 10;

SELECT p.node, p.partners, n.entity_type, n.identifier_type, n.identifier_value,
       (SELECT count(*) FROM "__nexus_stage__work_members" m WHERE m.node = p.node)
FROM "__nexus_stage__work_partners" p JOIN "__nexus_stage__work_nodes" n ON n.node = p.node;

CREATE TRANSIENT TABLE "__nexus_stage__work_links" (a NUMBER(38,0), b NUMBER(38,0));

INSERT INTO "__nexus_stage__work_links" (a, b)
SELECT DISTINCT o.node, f.first FROM "__nexus_stage__work_occurrences" o
JOIN (SELECT entity_type, edge_id, min(node) AS first FROM "__nexus_stage__work_occurrences" AS l
      WHERE edge_id IS NOT NULL GROUP BY entity_type, edge_id) f ON f.entity_type = o.entity_type AND f.edge_id = o.edge_id
WHERE o.node <> f.first;

CREATE INDEX __nexus_stage__work_links_a ON __nexus_stage__work_links ["a"];

CREATE INDEX __nexus_stage__work_links_b ON __nexus_stage__work_links ["b"];

ANALYZE __nexus_stage__work_nodes, __nexus_stage__work_links;

CREATE TRANSIENT TABLE "__nexus_stage__work_changes_0" AS
SELECT m.node, CASE WHEN j.label < m.label THEN j.label ELSE m.label END AS label
FROM (SELECT node, min(label) AS label, max(own) AS own FROM (
        SELECT node, label, label AS own FROM "__nexus_stage__work_nodes"
        UNION ALL SELECT k.a, n.label, NULL FROM "__nexus_stage__work_links" k JOIN "__nexus_stage__work_nodes" n ON n.node = k.b
        UNION ALL SELECT k.b, n.label, NULL FROM "__nexus_stage__work_links" k JOIN "__nexus_stage__work_nodes" n ON n.node = k.a
      ) AS candidates GROUP BY node) AS m
JOIN "__nexus_stage__work_nodes" j ON j.node = m.label
WHERE j.label < m.own OR m.label < m.own;

SELECT count(*) FROM "__nexus_stage__work_changes_0";

DROP TABLE IF EXISTS "__nexus_stage__work_changes_0";

CREATE INDEX __nexus_stage__work_nodes_key ON __nexus_stage__work_nodes ["entity_type", "identifier_type", "identifier_value"];

ANALYZE __nexus_stage__work_nodes;

CREATE TRANSIENT TABLE "__nexus_stage__work_entities" (label NUMBER(38,0) PRIMARY KEY, entity_type VARCHAR, entity_id VARCHAR);

INSERT INTO "__nexus_stage__work_entities" (label, entity_type, entity_id)
SELECT n.node, n.entity_type, ('per_' || md5((coalesce(cast(n.identifier_type as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(n.identifier_value as varchar), '_dbt_utils_surrogate_key_null_')))) FROM "__nexus_stage__work_nodes" n
WHERE n.node = n.label AND n.entity_type = 'person';

INSERT INTO "__nexus_stage__work_entities" (label, entity_type, entity_id)
SELECT n.node, n.entity_type, ('grp_' || md5((coalesce(cast(n.identifier_type as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(n.identifier_value as varchar), '_dbt_utils_surrogate_key_null_')))) FROM "__nexus_stage__work_nodes" n
WHERE n.node = n.label AND n.entity_type = 'group';

SELECT count(*) FROM "__nexus_stage__work_entities";

DROP TABLE IF EXISTS "__nexus_stage__nexus_resolved_person_identifiers";

CREATE TABLE "__nexus_stage__nexus_resolved_person_identifiers" ("person_identifier_id" VARCHAR, "person_id" VARCHAR, "event_id" VARCHAR, "identifier_type" VARCHAR, "identifier_value" VARCHAR, "realtime_processed" BOOLEAN, "existing_person" BOOLEAN, "resolution_reason" VARCHAR, "previous_entity_id" VARCHAR, "resolved_at_watermark" TIMESTAMP_NTZ);

INSERT INTO "__nexus_stage__nexus_resolved_person_identifiers"
SELECT ('per_idfr_' || md5((coalesce(cast(e.entity_id as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(n.identifier_type as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(n.identifier_value as varchar), '_dbt_utils_surrogate_key_null_')))), e.entity_id, b.event_id, n.identifier_type, n.identifier_value, false, true,
       'full_resolution', NULL, (SELECT max(coalesce(_ingested_at, occurred_at)) FROM "__nexus_stage__nexus_entity_identifiers"
                                  WHERE entity_type = ? AND identifier_type IS NOT NULL AND identifier_value IS NOT NULL)
FROM "__nexus_stage__work_nodes" n
JOIN "__nexus_stage__work_entities" e ON e.label = n.label
LEFT JOIN (SELECT node, event_id, row_number() OVER (PARTITION BY node ORDER BY
              CASE WHEN edge_id IS NULL THEN 1 ELSE 0 END, collate(edge_id, ''),
              CASE WHEN event_id IS NULL THEN 1 ELSE 0 END, collate(event_id, '')) AS k
           FROM "__nexus_stage__work_occurrences") b ON b.node = n.node AND b.k = 1
WHERE n.entity_type = ?
ORDER BY n.node;

SELECT count(*) FROM "__nexus_stage__nexus_resolved_person_identifiers";

DROP TABLE IF EXISTS "__nexus_stage__nexus_resolved_group_identifiers";

CREATE TABLE "__nexus_stage__nexus_resolved_group_identifiers" ("group_identifier_id" VARCHAR, "group_id" VARCHAR, "event_id" VARCHAR, "identifier_type" VARCHAR, "identifier_value" VARCHAR, "realtime_processed" BOOLEAN, "existing_group" BOOLEAN, "resolution_reason" VARCHAR, "previous_entity_id" VARCHAR, "resolved_at_watermark" TIMESTAMP_NTZ);

INSERT INTO "__nexus_stage__nexus_resolved_group_identifiers"
SELECT ('grp_idfr_' || md5((coalesce(cast(e.entity_id as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(n.identifier_type as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(n.identifier_value as varchar), '_dbt_utils_surrogate_key_null_')))), e.entity_id, b.event_id, n.identifier_type, n.identifier_value, false, true,
       'full_resolution', NULL, (SELECT max(coalesce(_ingested_at, occurred_at)) FROM "__nexus_stage__nexus_entity_identifiers"
                                  WHERE entity_type = ? AND identifier_type IS NOT NULL AND identifier_value IS NOT NULL)
FROM "__nexus_stage__work_nodes" n
JOIN "__nexus_stage__work_entities" e ON e.label = n.label
LEFT JOIN (SELECT node, event_id, row_number() OVER (PARTITION BY node ORDER BY
              CASE WHEN edge_id IS NULL THEN 1 ELSE 0 END, collate(edge_id, ''),
              CASE WHEN event_id IS NULL THEN 1 ELSE 0 END, collate(event_id, '')) AS k
           FROM "__nexus_stage__work_occurrences") b ON b.node = n.node AND b.k = 1
WHERE n.entity_type = ?
ORDER BY n.node;

SELECT count(*) FROM "__nexus_stage__nexus_resolved_group_identifiers";

DROP TABLE IF EXISTS "__nexus_stage__nexus_edge_quality";

CREATE TABLE "__nexus_stage__nexus_edge_quality" ("entity_type" VARCHAR, "identifier_type" VARCHAR, "identifier_value" VARCHAR, "partners" NUMBER(38,0), "edges" NUMBER(38,0), "connected_types" VARCHAR, "sources" VARCHAR, "severity" VARCHAR, "filtered" BOOLEAN);

INSERT INTO __nexus_stage__nexus_edge_quality;

SELECT DISTINCT trait_name, source FROM "__nexus_stage__nexus_entity_traits"
WHERE entity_type IN ('person', 'group') AND trait_name IS NOT NULL AND trait_value IS NOT NULL AND trait_value <> ''
  AND identifier_type IS NOT NULL AND identifier_value IS NOT NULL
ORDER BY 1, 2;

SELECT count(*) FROM "__nexus_stage__nexus_entity_traits" WHERE entity_type IS NULL OR entity_type NOT IN ('person', 'group');

SELECT coalesce(t.source, 'NULL'), CASE WHEN x.node IS NULL THEN 0 ELSE 1 END, count(*) FROM "__nexus_stage__nexus_entity_traits" t
LEFT JOIN "__nexus_stage__work_nodes" n ON n.entity_type = t.entity_type AND n.identifier_type = t.identifier_type AND n.identifier_value = t.identifier_value
LEFT JOIN "__nexus_stage__work_left_out" x ON x.entity_type = t.entity_type AND x.identifier_type = t.identifier_type AND x.identifier_value = t.identifier_value
WHERE t.entity_type IN ('person', 'group') AND t.trait_name IS NOT NULL AND t.trait_value IS NOT NULL AND t.trait_value <> ''
  AND t.identifier_type IS NOT NULL AND t.identifier_value IS NOT NULL AND n.node IS NULL
GROUP BY coalesce(t.source, 'NULL'), CASE WHEN x.node IS NULL THEN 0 ELSE 1 END ORDER BY 1;

DROP TABLE IF EXISTS "__nexus_stage__nexus_resolved_entity_traits";

CREATE TABLE "__nexus_stage__nexus_resolved_entity_traits" ("entity_trait_id" VARCHAR, "entity_id" VARCHAR, "entity_type" VARCHAR, "trait_name" VARCHAR, "trait_value" VARCHAR, "occurred_at" TIMESTAMP_NTZ, "realtime_processed" BOOLEAN);

INSERT INTO "__nexus_stage__nexus_resolved_entity_traits"
SELECT ('ent_tr_' || md5((coalesce(cast(entity_id as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(trait_name as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(trait_value as varchar), '_dbt_utils_surrogate_key_null_')))), entity_id, entity_type, trait_name, trait_value, occurred_at, false FROM (
  SELECT e.entity_id, n.entity_type, replace(lower(t.trait_name), ' ', '_') AS trait_name, t.trait_value, t.occurred_at,
         row_number() OVER (PARTITION BY e.entity_id, replace(lower(t.trait_name), ' ', '_') ORDER BY
           CASE WHEN t.occurred_at IS NULL THEN 1 ELSE 0 END, t.occurred_at DESC,
           CASE WHEN t._ingested_at IS NULL THEN 1 ELSE 0 END, t._ingested_at DESC,
           collate(coalesce(t.entity_trait_id, ''), '') DESC) AS k
  FROM "__nexus_stage__nexus_entity_traits" t
JOIN "__nexus_stage__work_nodes" n ON n.entity_type = t.entity_type AND n.identifier_type = t.identifier_type AND n.identifier_value = t.identifier_value
JOIN "__nexus_stage__work_entities" e ON e.label = n.label
WHERE t.entity_type IN ('person', 'group') AND t.trait_name IS NOT NULL AND t.trait_value IS NOT NULL AND t.trait_value <> ''
) AS ranked WHERE k = 1
ORDER BY CASE entity_type WHEN 'person' THEN 0 WHEN 'group' THEN 1 END, collate(entity_id, ''), collate(trait_name, '');

SELECT count(*) FROM "__nexus_stage__nexus_resolved_entity_traits";

SELECT count(*) FROM "__nexus_stage__nexus_events" WHERE event_id IS NULL;

SELECT event_id, min(source) FROM "__nexus_stage__nexus_events" GROUP BY event_id HAVING count(*) > 1 ORDER BY 1 LIMIT 5;

SELECT event_id, source FROM "__nexus_stage__nexus_events" WHERE occurred_at IS NULL LIMIT 1;

SELECT count(*) FROM "__nexus_stage__work_occurrences" o LEFT JOIN "__nexus_stage__nexus_events" ev ON ev.event_id = o.event_id WHERE ev.event_id IS NULL;

DROP TABLE IF EXISTS "__nexus_stage__nexus_entity_participants";

CREATE TABLE "__nexus_stage__nexus_entity_participants" ("entity_participant_id" VARCHAR, "entity_type" VARCHAR, "event_id" VARCHAR, "entity_id" VARCHAR, "role" VARCHAR, "occurred_at" TIMESTAMP_NTZ);

INSERT INTO "__nexus_stage__nexus_entity_participants"
SELECT ('ent_prt_' || md5((coalesce(cast(p.event_id as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(p.entity_id as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(p.role as varchar), '_dbt_utils_surrogate_key_null_')))), p.entity_type, p.event_id, p.entity_id, p.role, ev.occurred_at
FROM (SELECT DISTINCT o.event_id, e.entity_id, e.entity_type, o.role
      FROM "__nexus_stage__work_occurrences" o
      JOIN "__nexus_stage__work_nodes" n ON n.node = o.node
      JOIN "__nexus_stage__work_entities" e ON e.label = n.label) p
JOIN "__nexus_stage__nexus_events" ev ON ev.event_id = p.event_id;

SELECT count(*) FROM "__nexus_stage__nexus_entity_participants";

SELECT DISTINCT trait_name FROM "__nexus_stage__nexus_resolved_entity_traits";

DROP TABLE IF EXISTS "__nexus_stage__nexus_entities";

CREATE TABLE "__nexus_stage__nexus_entities" ("entity_id" VARCHAR PRIMARY KEY, "entity_type" VARCHAR, "plan" VARCHAR, "_created_at" TIMESTAMP_NTZ, "_updated_at" TIMESTAMP_NTZ, "_last_merged_at" TIMESTAMP_NTZ, "first_interaction_at" TIMESTAMP_NTZ, "last_interaction_at" TIMESTAMP_NTZ, "_processed_at" TIMESTAMP_NTZ);

INSERT INTO "__nexus_stage__nexus_entities"
SELECT e.entity_id, e.entity_type, tr."plan",
       c.created, coalesce(tr.updated, c.created), i.last_merged, i.first_at, i.last_at, to_timestamp_ntz('2027-01-15 08:00:00')
FROM "__nexus_stage__work_entities" e
LEFT JOIN (SELECT entity_id, max(occurred_at) AS updated, max(CASE WHEN trait_name = 'plan' THEN trait_value END) AS "plan"
           FROM "__nexus_stage__nexus_resolved_entity_traits" GROUP BY entity_id) tr ON tr.entity_id = e.entity_id
LEFT JOIN (SELECT n.label, min(o.occurred_at) AS created FROM "__nexus_stage__work_occurrences" o
           JOIN "__nexus_stage__work_nodes" n ON n.node = o.node GROUP BY n.label) c ON c.label = e.label
LEFT JOIN (SELECT n.label, min(ev.occurred_at) AS first_at, max(ev.occurred_at) AS last_at,
                  max(CASE WHEN o.edge_id IS NOT NULL THEN ev.occurred_at END) AS last_merged
           FROM "__nexus_stage__work_occurrences" o JOIN "__nexus_stage__work_nodes" n ON n.node = o.node
           JOIN "__nexus_stage__nexus_events" ev ON ev.event_id = o.event_id GROUP BY n.label) i ON i.label = e.label
ORDER BY CASE e.entity_type WHEN 'person' THEN 0 WHEN 'group' THEN 1 END, collate(e.entity_id, '');

SELECT count(*) FROM "__nexus_stage__nexus_entities";

DROP TABLE IF EXISTS "__nexus_stage__work_declarations";

CREATE TRANSIENT TABLE "__nexus_stage__work_declarations" AS
SELECT x.*, row_number() OVER (PARTITION BY a_id, b_id, relationship_type ORDER BY CASE WHEN occurred_at IS NULL THEN 0 ELSE 1 END, occurred_at, CASE WHEN _ingested_at IS NULL THEN 0 ELSE 1 END, _ingested_at, collate(rid, '')) AS f,
            row_number() OVER (PARTITION BY a_id, b_id, relationship_type ORDER BY CASE WHEN occurred_at IS NULL THEN 1 ELSE 0 END, occurred_at DESC, CASE WHEN _ingested_at IS NULL THEN 1 ELSE 0 END, _ingested_at DESC, collate(rid, '') DESC) AS l,
            min(occurred_at) OVER (PARTITION BY a_id, b_id, relationship_type) AS min_known, max(occurred_at) OVER (PARTITION BY a_id, b_id, relationship_type) AS max_known
FROM (SELECT ea.entity_id AS a_id, eb.entity_id AS b_id, r.relationship_type, r.entity_a_type, r.entity_a_role,
             r.entity_b_type, r.entity_b_role, r.relationship_direction, r.is_active, r.source, r.occurred_at, r._ingested_at,
             coalesce(r.relationship_declaration_id, '') AS rid
      FROM "__nexus_stage__nexus_relationship_declarations" r
      JOIN "__nexus_stage__work_nodes" na ON na.entity_type = r.entity_a_type AND na.identifier_type = r.entity_a_identifier_type AND na.identifier_value = r.entity_a_identifier
      JOIN "__nexus_stage__work_entities" ea ON ea.label = na.label
      JOIN "__nexus_stage__work_nodes" nb ON nb.entity_type = r.entity_b_type AND nb.identifier_type = r.entity_b_identifier_type AND nb.identifier_value = r.entity_b_identifier
      JOIN "__nexus_stage__work_entities" eb ON eb.label = nb.label
      WHERE r.relationship_type IS NOT NULL) x;

SELECT count(*) FROM "__nexus_stage__nexus_relationship_declarations";

SELECT count(*) FROM "__nexus_stage__work_declarations";

DROP TABLE IF EXISTS "__nexus_stage__nexus_relationships";

CREATE TABLE "__nexus_stage__nexus_relationships" ("relationship_id" VARCHAR, "entity_a_id" VARCHAR, "entity_a_type" VARCHAR, "entity_a_role" VARCHAR, "entity_b_id" VARCHAR, "entity_b_type" VARCHAR, "entity_b_role" VARCHAR, "relationship_type" VARCHAR, "relationship_direction" VARCHAR, "is_active" BOOLEAN, "established_at" TIMESTAMP_NTZ, "last_updated_at" TIMESTAMP_NTZ, "primary_source" VARCHAR, "_processed_at" TIMESTAMP_NTZ, "_updated_at" TIMESTAMP_NTZ, "_created_at" TIMESTAMP_NTZ);

INSERT INTO "__nexus_stage__nexus_relationships"
SELECT ('rel_' || md5((coalesce(cast(l.a_id as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(l.b_id as varchar), '_dbt_utils_surrogate_key_null_') || '-' || coalesce(cast(l.relationship_type as varchar), '_dbt_utils_surrogate_key_null_')))), l.a_id, l.entity_a_type, l.entity_a_role, l.b_id, l.entity_b_type, l.entity_b_role, l.relationship_type,
       l.relationship_direction, l.is_active, l.min_known, l.max_known, f.source, to_timestamp_ntz('2027-01-15 08:00:00'),
       l.max_known, l.min_known
FROM "__nexus_stage__work_declarations" l
JOIN "__nexus_stage__work_declarations" f ON f.a_id = l.a_id AND f.b_id = l.b_id AND f.relationship_type = l.relationship_type AND f.f = 1
WHERE l.l = 1
ORDER BY CASE l.entity_a_type WHEN 'person' THEN 0 WHEN 'group' THEN 1 END, collate(l.a_id, ''), CASE l.entity_b_type WHEN 'person' THEN 0 WHEN 'group' THEN 1 END, collate(l.b_id, ''),
         collate(l.relationship_type, '');

DROP TABLE IF EXISTS "__nexus_stage__work_declarations";

SELECT count(*) FROM "__nexus_stage__nexus_relationships";
