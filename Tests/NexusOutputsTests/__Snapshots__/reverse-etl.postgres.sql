SELECT *
FROM YOUR_SCHEMA.customer_io_persons
WHERE "timestamp" > to_timestamp({{last_sync_time}}) AT TIME ZONE 'UTC'
