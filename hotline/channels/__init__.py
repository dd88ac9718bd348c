"""The adapters that know Twilio: webhooks in, TwiML out, signatures, retries."""
