SELECT "location_id" AS "groupId",
       '3' AS "objectTypeId",
       to_timestamp_ntz("_updated_at") AS "timestamp",
       "email" AS "email",
       "location_name" AS "location_name",
       "user_id" AS "user_id",
       to_timestamp_ntz("_created_at") AS "created_at",
       to_timestamp_ntz("_updated_at") AS "_updated_at",
       "entity_id" AS "nexus_entity_id"
FROM "nexus_entities"
WHERE entity_type = 'group'
  AND "location_id" IS NOT NULL
