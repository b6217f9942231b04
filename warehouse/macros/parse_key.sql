-- The identity of a text for the dialect parser. The author is part of it: a Bot author or a
-- configured bot login makes a header-less body bot output, so the same text can read
-- differently under two authors. DuckDB's 64-bit hash: fast over gigabytes of bodies; the
-- parse cache is dropped whenever DuckDB's version changes (build_info.parser_fingerprint).
create or replace temp macro parse_key(author_login, author_type, body) as
    hash(coalesce(author_login, ''), coalesce(author_type, ''), coalesce(body, ''));
