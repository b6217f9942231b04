-- A text without the whitespace at its ends: spaces, tabs, line feeds, carriage returns,
-- vertical tabs and form feeds (`trim(text)` alone strips only spaces: a question written in a
-- browser kept its "\r\n").
create or replace temp macro trim_whitespace(text) as
    trim(text, chr(32) || chr(9) || chr(10) || chr(13) || chr(11) || chr(12));
