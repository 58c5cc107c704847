SELECT object_id AS "groupId",
       '1' AS "objectTypeId",
       user_id AS "userId",
       cast(updated_at as timestamp) AS "timestamp",
       json_strip_nulls(json_build_object(
    'is_primary_location', nexus_json_value(case when rank_by_recency = 1 then true else false end),
    'is_most_recent_location', nexus_json_value(case when rank_by_recency = 1 then true else false end),
    'is_first_location', nexus_json_value(case when rank_by_first = 1 then true else false end),
    'has_multiple_locations', nexus_json_value(case when object_count > 1 then true else false end),
    'location_count', nexus_json_value(object_count),
    'first_interaction_at', nexus_json_value(cast(first_interaction_at as timestamp)),
    'last_interaction_at', nexus_json_value(cast(last_interaction_at as timestamp)),
    'location_name', nexus_json_value(object_name))) AS "relationshipAttributes"
FROM (
    SELECT *,
           row_number() OVER (PARTITION BY person_id ORDER BY last_interaction_at DESC, object_entity_id) AS rank_by_recency,
           row_number() OVER (PARTITION BY person_id ORDER BY first_interaction_at ASC, object_entity_id) AS rank_by_first,
           count(*) OVER (PARTITION BY person_id) AS object_count
    FROM (
        SELECT r.entity_a_id AS person_id, r.entity_b_id AS object_entity_id,
               g."location_id" AS object_id, g."location_name" AS object_name,
               p."email" AS user_id,
               r.established_at AS first_interaction_at, r.last_updated_at AS last_interaction_at,
               r._updated_at AS updated_at
        FROM "nexus_relationships" r
        INNER JOIN "nexus_entities" p ON p.entity_id = r.entity_a_id AND p.entity_type = 'person'
        INNER JOIN "nexus_entities" g ON g.entity_id = r.entity_b_id AND g.entity_type = 'group'
        WHERE r.relationship_type = 'membership'
                      AND r.entity_a_type = 'person'
                      AND r.entity_b_type = 'group'
                      AND g."location_id" IS NOT NULL
                      AND p."email" IS NOT NULL
                      AND p."email" IN (SELECT "userId" FROM "customer_io_persons")
    ) AS nexus_relationship_rows
) AS nexus_relationship_ranked
