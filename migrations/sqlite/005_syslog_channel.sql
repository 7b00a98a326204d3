-- Syslog channels for alert rules (channel_type = 'syslog'): host, port, tls, app_name and
-- the optional CA, as one AES-256-GCM sealed JSON. For those rows url and format are ''.
-- Deliveries of every channel type share webhook_outbox.

ALTER TABLE alert_rules ADD COLUMN channel_enc TEXT;
