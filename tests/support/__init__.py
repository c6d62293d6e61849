"""What the test groups share: assertions on the wire (envelopes), documents to upload (media), the one
way to start a live server (servers), and the setups of the client, browser, Live API and fuzz tests.

The suite's root conftest puts tests/ on sys.path, so every group imports these as `support...`; the
most used names are re-exported here (`from support import assert_envelope`)."""
from support.envelopes import assert_envelope, validate_response
from support.media import mp4_bytes, wav_bytes

__all__ = ["assert_envelope", "mp4_bytes", "validate_response", "wav_bytes"]
