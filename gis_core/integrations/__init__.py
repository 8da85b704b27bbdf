"""Integrations: devices over MQTT and HTTP, hotline platforms in, results back out.

``devices`` (the registry and its imports), ``rules`` (readings become events),
``readings`` (parse, deduplicate, apply, reject: one transaction per batch), ``mqtt``
(the QoS 1 consumer that acknowledges only after commit), ``hotline`` (signed pushes from
external platforms), ``outbox`` (delivering what the storage hook wrote, signed, in order,
with retries and dead letters). See docs/integrations.md.
"""
