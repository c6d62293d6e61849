"""Prompt documents of an exact size, for tests that count tokens, fill caches or spend quotas."""
from __future__ import annotations

from gemini_mockserver.generation.tokens import count_text

WORDS = "the quick brown fox jumps over a lazy dog near our old barn".split()


def document(tokens: int, topic: str = "ocean") -> str:
    """Text of exactly `tokens` tokens (short words are one token each) starting with `topic`."""
    text = " ".join([topic] + [WORDS[i % len(WORDS)] for i in range(tokens - 1)])
    assert count_text(text) == tokens
    return text


def pdf(*pages: str | None) -> bytes:
    """A small valid PDF, one page per argument with that text on one line in Helvetica (None: a page with
    no text at all, as a scan's is)."""
    count = len(pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
                   b" ".join(b"%d 0 R" % (4 + 2 * n) for n in range(count)), count),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for n, text in enumerate(pages):
        escaped = (text or "").replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1") if text else b""
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * n))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    return bytes(out)
