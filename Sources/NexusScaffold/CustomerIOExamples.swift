/// The Customer.io models of the user's own description (`shared/seed`), as written there,
/// so the demo shows that they run on the embedded warehouse. The only edit: the Track
/// example's placeholder source `'your_source'` is the demo's `'clinic'`.
enum CustomerIOExamples {
    static let seedModels: [(String, String)] = [
        ("customer_io_persons", persons),
        ("customer_io_events", events),
        ("customer_io_locations", locations),
        ("customer_io_location_relationships", relationships),
    ]

    /// The same outputs through nexus's macros; they yield the same rows as the models above.
    static let macroModels: [(String, String)] = [
        ("cio_events", """
            {{ config(materialized='view') }}
            {{ nexus.customer_io_track(
                user_id_column='email',
                anonymous_id_column='segment_anonymous_id',
                persons_model='customer_io_persons',
                sources=['clinic']
            ) }}

            """),
        ("cio_locations", """
            {{ config(materialized='view') }}
            {{ nexus.customer_io_objects(
                entity_type='group',
                id_column='location_id',
                object_type_id='1',
                traits=['location_name', 'location_lobbie_integration_uuid', '_created_at']
            ) }}

            """),
        ("cio_location_relationships", """
            {{ config(materialized='view') }}
            {{ nexus.customer_io_relationships(
                object_type_id='1',
                object_id_column='location_id',
                object_name_column='location_name',
                relationship_type='membership',
                user_id_column='email',
                persons_model='customer_io_persons'
            ) }}

            """),
    ]

    static let persons = """
        {{ config(materialized='view') }}
        -- Only include persons who have reached "paying customer" state
        with paying_customers as (
        select distinct entity_id
        from {{ ref('high_level_customer_journey') }}
        where state_value != 'lead'
        ),
        current_journey_state as (
        select
        e.email,
        hlcj.state_value
        from {{ ref('high_level_customer_journey') }} hlcj
        inner join {{ ref('nexus_entities') }} e
        on hlcj.entity_id = e.entity_id
        where hlcj.is_current = true
        ),
        persons as (
        {{ nexus.customer_io_identify(
        entity_type='person',
        user_id_column='email',
        anonymous_id_column='segment_anonymous_id',
        dedupe_column='email',
        ignore_traits=[
        'location_lobbie_integration_uuid',
        'location_name',
        'location_id',
        'facebook_pixel_id',
        'facebook_access_key',
        'google_ads_account_id',
        'facebook_account_id'
        ],
        filters=[
        "email IS NOT NULL",
        "entity_id IN (SELECT entity_id FROM paying_customers)"
        ]
        ) }}
        ),
        persons_with_state as (
        select
        p.*,
        cjs.state_value as "customer_journey_state"
        from persons p
        left join current_journey_state cjs
        on p."userId" = cjs.email
        )
        select * from persons_with_state
        order by "timestamp" desc

        """

    static let events = """
        -- models/output/customer_io/customer_io_events.sql
        {{ config(materialized='view') }}
        -- Only include events for persons already in customer_io_persons
        with customer_io_person_ids as (
        select "userId" as email
        from {{ ref('customer_io_persons') }}
        ),
        source_events as (
        select
        e.event_id,
        e.occurred_at,
        e.event_name,
        e.event_type,
        e.value,
        e.value_unit,
        e.source
        from {{ ref('nexus_events') }} e
        where e.source = 'clinic'
        ),
        person_participants as (
        select event_id, entity_id as person_entity_id
        from {{ ref('nexus_entity_participants') }}
        where entity_type = 'person'
        ),
        persons as (
        select e.entity_id, e.email, e.segment_anonymous_id
        from {{ ref('nexus_entities') }} e
        inner join customer_io_person_ids cip on e.email = cip.email
        where e.entity_type = 'person'
        ),
        events_with_person as (
        select
        se.*,
        p.email,
        p.segment_anonymous_id
        from source_events se
        inner join person_participants pp on se.event_id = pp.event_id
        inner join persons p on pp.person_entity_id = p.entity_id
        where p.email is not null
        )
        select
        email as "userId",
        segment_anonymous_id as "anonymousId",
        to_timestamp_ntz(occurred_at) as "timestamp",
        event_name as "event",
        event_type as "event_type",
        value as "value",
        value_unit as "value_unit",
        source as "event_data_source"
        from events_with_person
        order by "timestamp" desc

        """

    static let locations = """
        -- models/output/customer_io/customer_io_locations.sql
        {{ config(materialized='view') }}
        with locations as (
        select
        entity_id,
        location_id,
        location_name,
        location_lobbie_integration_uuid,
        _updated_at,
        _created_at
        from {{ ref('nexus_entities') }}
        where entity_type = 'group'
        and location_id is not null
        )
        select
        -- Customer.io Group sync required fields
        location_id as "groupId",
        '1' as "objectTypeId", -- Your object type ID from Customer.io
        to_timestamp_ntz(_updated_at) as "timestamp",
        -- Object traits (stored as attributes on the location)
        location_name as "location_name",
        location_lobbie_integration_uuid as "location_lobbie_integration_uuid",
        entity_id as "nexus_entity_id",
        to_timestamp_ntz(_created_at) as "created_at"
        from locations
        order by "timestamp" desc

        """

    static let relationships = """
        -- models/output/customer_io/customer_io_location_relationships.sql
        {{ config(materialized='view') }}
        -- Only include relationships for persons in customer_io_persons
        with customer_io_person_ids as (
        select "userId" as email
        from {{ ref('customer_io_persons') }}
        ),
        -- Get all person-location relationships with stats
        relationship_stats as (
        select
        r.relationship_id,
        r.entity_a_id as person_id,
        r.entity_b_id as group_id,
        g.location_id,
        g.location_name,
        p.email,
        r.established_at as first_interaction_at,
        r.last_updated_at as last_interaction_at,
        r._updated_at
        from {{ ref('nexus_relationships') }} r
        inner join {{ ref('nexus_entities') }} p
        on r.entity_a_id = p.entity_id
        and p.entity_type = 'person'
        inner join {{ ref('nexus_entities') }} g
        on r.entity_b_id = g.entity_id
        and g.entity_type = 'group'
        inner join customer_io_person_ids cip
        on p.email = cip.email
        where r.relationship_type = 'membership'
        and r.entity_a_type = 'person'
        and r.entity_b_type = 'group'
        and g.location_id is not null
        and p.email is not null
        ),
        -- Rank locations for each person
        ranked_relationships as (
        select
        *,
        row_number() over (
        partition by person_id
        order by last_interaction_at desc
        ) as rank_by_recency,
        row_number() over (
        partition by person_id
        order by first_interaction_at asc
        ) as rank_by_first,
        count(*) over (partition by person_id) as location_count
        from relationship_stats
        ),
        final as (
        select
        -- Customer.io Group sync required fields
        location_id as "groupId",
        '1' as "objectTypeId",
        email as "userId",
        to_timestamp_ntz(_updated_at) as "timestamp",
        -- Relationship attributes as JSON object
        -- See: https://docs.customer.io/integrations/data-in/connections/reverse-etl/snowflake/#relationship-attributes
        object_construct(
        'is_primary_location', case when rank_by_recency = 1 then true else false end,
        'is_most_recent_location', case when rank_by_recency = 1 then true else false end,
        'is_first_location', case when rank_by_first = 1 then true else false end,
        'has_multiple_locations', case when location_count > 1 then true else false end,
        'location_count', location_count,
        'first_interaction_at', to_timestamp_ntz(first_interaction_at),
        'last_interaction_at', to_timestamp_ntz(last_interaction_at),
        'location_name', location_name
        ) as "relationshipAttributes"
        from ranked_relationships
        )
        select * from final
        order by "timestamp" desc

        """
}
