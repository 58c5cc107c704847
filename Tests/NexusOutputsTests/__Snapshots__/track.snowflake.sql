SELECT p."email" AS "userId",
       to_timestamp_ntz(e.occurred_at) AS "timestamp",
       e.event_name AS "event",
       e.event_type AS "event_type",
       e.value AS "value",
       e.value_unit AS "value_unit",
       e.source AS "event_data_source"
FROM "nexus_events" e
INNER JOIN (SELECT DISTINCT event_id, entity_id FROM "nexus_entity_participants" WHERE entity_type = 'person') pp
    ON pp.event_id = e.event_id
INNER JOIN "nexus_entities" p ON p.entity_id = pp.entity_id AND p.entity_type = 'person'
WHERE e.source IN ('clinic')
  AND p."email" IS NOT NULL
  AND p."email" IN (SELECT "userId" FROM "customer_io_persons")
