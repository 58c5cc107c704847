SELECT *
FROM customer_io_persons
WHERE "timestamp" > datetime({{last_sync_time}}, 'unixepoch')
