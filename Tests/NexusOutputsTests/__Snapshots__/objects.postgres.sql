SELECT "location_id" AS "groupId",
       '3' AS "objectTypeId",
       cast("_updated_at" as timestamp) AS "timestamp",
       "email" AS "email",
       "location_name" AS "location_name",
       "user_id" AS "user_id",
       cast("_created_at" as timestamp) AS "created_at",
       cast("_updated_at" as timestamp) AS "_updated_at",
       "entity_id" AS "nexus_entity_id"
FROM "nexus_entities"
WHERE entity_type = 'group'
  AND "location_id" IS NOT NULL
