-- A text with its whitespace removed: spaces, tabs, line feeds, carriage returns and form
-- feeds (regular expressions' `\s`). Five plain replaces: `regexp_replace(text, '\s+', '', 'g')`
-- gives the same text and took 6x longer over the corrections of a 1M-comment build.
create or replace temp macro without_whitespace(text) as
    replace(replace(replace(replace(replace(
        text, ' ', ''), chr(9), ''), chr(10), ''), chr(13), ''), chr(12), '');
