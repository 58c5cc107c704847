SELECT *
FROM YOUR_SCHEMA.customer_io_persons
WHERE TO_TIMESTAMP_NTZ("timestamp") > TO_TIMESTAMP_NTZ({{last_sync_time}})
