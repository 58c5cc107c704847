SELECT "userId", "timestamp", "email", "location_id", "created_at", "_updated_at"
FROM (
    SELECT *, CASE WHEN lower(trim("email")) IS NULL THEN 1
                   ELSE row_number() OVER (PARTITION BY lower(trim("email")) ORDER BY "timestamp" DESC NULLS LAST, nexus_entity_id) END AS nexus_dedupe_rank
    FROM (
        SELECT "user_id" AS "userId",
           "_updated_at" AS "timestamp",
           "email" AS "email",
           "location_id" AS "location_id",
           cast("_created_at" as timestamp) AS "created_at",
           cast("_updated_at" as timestamp) AS "_updated_at",
               "entity_id" AS nexus_entity_id
        FROM "nexus_entities"
        WHERE "entity_type" = 'person'
                      AND "user_id" IS NOT NULL
    ) AS nexus_identify_rows
) AS nexus_identify_ranked
WHERE nexus_dedupe_rank = 1
