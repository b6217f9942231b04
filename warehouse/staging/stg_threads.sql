-- Issues and pull requests as landed: one row per thread per crawl that saw it.
with source as not materialized (
    select * from raw_threads
),

renamed as (
    select
        ---------- ids
        thread_id,
        org,
        repo,
        number as thread_number,
        ---------- properties
        kind as thread_kind,
        title,
        body,
        author_login,
        author_type,
        state,
        url,
        ---------- timestamps
        created_at,
        updated_at,
        ---------- crawl
        crawled_at,
        run_id
    from source
)

select * from renamed
