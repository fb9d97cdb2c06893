"""The shared nouns, imported by every layer and importing nothing of ours (standard library only):
``records`` (actor, record, audit entry), ``errors`` (the base error with a code and a Chinese
message), ``text`` (the character rules of typed text), ``files`` (private, durable files)."""
