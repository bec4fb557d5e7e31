//! Fills the service's schema with synthetic recruiting data, server-side
//! (`INSERT ... SELECT` over `generate_series`), so a million applications
//! load in a few minutes: jobs opening one after another over two years, one
//! candidate per application, one CV document each, about half a note per
//! application, and a status mix that depends on the application's age (old
//! ones are mostly decided, recent ones mostly in progress). Seeded, so two
//! loads of the same size hold the same data.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Row};

/// How much to generate.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub applications: u64,
    pub jobs: u64,
}

/// Days between the first application and today.
const SPAN_DAYS: u64 = 730;
/// Each application goes to one of the this many most recently opened jobs,
/// so a job takes applications for about SPAN_DAYS * JOB_WINDOW / jobs days.
const JOB_WINDOW: u64 = 100;

/// A UUIDv7 for a time, its random bits taken from a hash of `salt` so the
/// same load makes the same ids; ids sort like their times (to the ms).
const UUID7_FUNCTION: &str = "
CREATE FUNCTION pg_temp.bench_uuid7(at timestamptz, salt text) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0')
    || '7' || substr(md5(salt), 1, 3)
    || to_hex(8 + get_byte(decode(md5(salt), 'hex'), 2) % 4)
    || substr(md5(salt), 5, 15))::uuid
$$";

/// Generates the data into the (migrated, empty) database behind `conn`, then
/// vacuums and analyzes it as autovacuum would have by then. Prints each
/// step's time to stderr; returns the total.
pub async fn load(conn: &mut PgConnection, size: Size) -> Result<Duration> {
    let start = Instant::now();
    // Bulk-load settings for this session only: no sync wait per statement,
    // and no foreign-key triggers (the generated rows refer to each other
    // correctly by construction; checking a million references row by row
    // would double the load time). Needs a superuser, as the default
    // `postgres` role is; without it the load is just slower.
    run(conn, "SET synchronous_commit = off").await?;
    run(conn, "SET maintenance_work_mem = '256MB'").await?;
    if run(conn, "SET session_replication_role = replica")
        .await
        .is_err()
    {
        eprintln!("load: not a superuser, foreign keys are checked row by row (slower)");
    }
    run(conn, UUID7_FUNCTION).await?;

    for (what, sql) in statements(size) {
        let step = Instant::now();
        run(conn, &sql)
            .await
            .with_context(|| format!("generating {what}"))?;
        eprintln!("load: {what} in {:.1} s", step.elapsed().as_secs_f64());
    }
    run(conn, "SET session_replication_role = DEFAULT")
        .await
        .ok();
    Ok(start.elapsed())
}

/// Rows per table, to show what was loaded (also for a reused database).
pub async fn counts(conn: &mut PgConnection) -> Result<Vec<(String, i64)>> {
    let mut counts = Vec::new();
    for table in ["jobs", "candidates", "applications", "documents", "notes"] {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *conn)
            .await
            .with_context(|| format!("counting {table}"))?;
        counts.push((table.to_owned(), row.try_get(0)?));
    }
    Ok(counts)
}

async fn run(conn: &mut PgConnection, sql: &str) -> Result<()> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await?;
    Ok(())
}

/// The generating statements in order, each with what it makes.
fn statements(size: Size) -> Vec<(&'static str, String)> {
    let Size {
        applications: n,
        jobs,
    } = size;
    let span_ms = SPAN_DAYS * 86_400_000;
    // When application `i` (1..=n) arrived: evenly spread, whole milliseconds.
    let start = format!("(date_trunc('day', now()) - interval '{SPAN_DAYS} days')");
    let arrived = format!("{start} + interval '1 millisecond' * (i::bigint * {span_ms} / {n})");
    // Which job application `i` is for: one of the JOB_WINDOW latest opened.
    let job_of = format!(
        "greatest(0, (i::bigint * {jobs} / {n})::int - floor(random() * {JOB_WINDOW})::int)"
    );
    let recent = n - n / 10;
    vec![
        (
            "jobs",
            format!(
                "CREATE TEMP TABLE bench_jobs AS
                 SELECT k, pg_temp.bench_uuid7(opened, 'job' || k) AS id, opened,
                        opened + interval '1 millisecond' * ({JOB_WINDOW} * {span_ms} / {jobs})
                          + interval '14 days' AS closes
                 FROM (SELECT k, {start} + interval '1 millisecond' * (k::bigint * {span_ms} / {jobs})
                              - interval '1 day' AS opened
                       FROM generate_series(0, {jobs} - 1) k) s;
                 CREATE UNIQUE INDEX ON bench_jobs (k);
                 INSERT INTO jobs (id, title, country, department, location, status,
                                   closed_at, created_at, updated_at)
                 SELECT id, 'Bench role ' || k,
                        (ARRAY['DE', 'FR', 'NL', 'GB', 'ES', 'PL'])[1 + k % 6],
                        (ARRAY['Engineering', 'Sales', 'Support', 'Finance', 'Operations'])[1 + k % 5],
                        (ARRAY['Berlin', 'Paris', 'Amsterdam', 'London', 'Madrid', 'Remote'])[1 + k % 6],
                        CASE WHEN closes < now() THEN 'closed' ELSE 'open' END,
                        CASE WHEN closes < now() THEN closes END,
                        opened, least(closes, now())
                 FROM bench_jobs"
            ),
        ),
        (
            "candidates",
            format!(
                "INSERT INTO candidates (id, email_normalised, created_at, updated_at)
                 SELECT pg_temp.bench_uuid7(at, 'c' || i),
                        'candidate' || i || '@example.test', at, at
                 FROM (SELECT i, {arrived} - interval '1 second' AS at
                       FROM generate_series(1, {n}) i) t"
            ),
        ),
        (
            "applications",
            format!(
                "SELECT setseed(0.42);
                 INSERT INTO applications (id, job_id, candidate_id, status, full_name, email,
                        phone, cover_letter, linkedin_url, indeed_url, source,
                        privacy_notice_version, talent_pool_consent, intake_key, decided_at,
                        created_at, updated_at)
                 SELECT pg_temp.bench_uuid7(at, 'a' || i), j.id,
                        pg_temp.bench_uuid7(at - interval '1 second', 'c' || i),
                        status,
                        (ARRAY['Ada', 'Ben', 'Chloe', 'David', 'Elif', 'Farid', 'Greta', 'Hugo',
                               'Ines', 'Jonas', 'Kira', 'Luca', 'Mina', 'Noah', 'Olga', 'Pablo'])[1 + i % 16]
                        || ' ' ||
                        (ARRAY['Bench', 'Sample', 'Example', 'Testa', 'Fixture', 'Mock', 'Probe',
                               'Trial', 'Dummy', 'Placeholder', 'Synth'])[1 + (i / 16) % 11],
                        'Candidate' || i || '@Example.test',
                        CASE WHEN i % 3 = 0 THEN '+49 30 ' || lpad((i % 10000000)::text, 7, '0') END,
                        CASE WHEN r2 < 0.4 THEN repeat('I would like to apply for this role. ', 15) END,
                        CASE WHEN r2 < 0.5 THEN 'https://www.linkedin.com/in/candidate-' || i END,
                        CASE WHEN r2 > 0.9 THEN 'https://profile.indeed.com/p/c' || i END,
                        (ARRAY['careers-site', 'linkedin', 'indeed', 'referral'])[1 + floor(r2 * 4)::int],
                        '2026-01', r2 < 0.3, NULL,
                        CASE WHEN status IN ('hired', 'rejected', 'withdrawn') THEN decided END,
                        at,
                        CASE WHEN status IN ('hired', 'rejected', 'withdrawn') THEN decided
                             WHEN status = 'new' THEN at ELSE least(now(), at + interval '2 days') END
                 FROM (
                   SELECT i, at, k, r2,
                          least(now(), at + interval '1 day' * (1 + r2 * 40)) AS decided,
                          CASE WHEN i > {recent} THEN
                            CASE WHEN r < 0.40 THEN 'new' WHEN r < 0.65 THEN 'screening'
                                 WHEN r < 0.75 THEN 'interview' WHEN r < 0.77 THEN 'offer'
                                 WHEN r < 0.97 THEN 'rejected' ELSE 'withdrawn' END
                          ELSE
                            CASE WHEN r < 0.75 THEN 'rejected' WHEN r < 0.85 THEN 'withdrawn'
                                 WHEN r < 0.88 THEN 'hired' WHEN r < 0.93 THEN 'new'
                                 WHEN r < 0.98 THEN 'screening' ELSE 'interview' END
                          END AS status
                   FROM (SELECT i, {arrived} AS at, {job_of} AS k, random() AS r, random() AS r2
                         FROM generate_series(1, {n}) i) t
                 ) a JOIN bench_jobs j USING (k)"
            ),
        ),
        (
            "documents (one CV each)",
            "INSERT INTO documents (id, application_id, kind, content_type, size, sha256,
                                    object_key, created_at)
             SELECT pg_temp.bench_uuid7(created_at, 'd' || id), id, 'cv', 'application/pdf',
                    40000 + (hashtext(id::text) & 262143),
                    md5(id::text) || md5('sha' || id::text),
                    'documents/' || substr(md5('key' || id::text), 1, 2) || '/' || md5('key' || id::text),
                    created_at
             FROM applications"
                .to_owned(),
        ),
        (
            "notes (about 0.5 per application)",
            "SELECT setseed(0.43);
             INSERT INTO notes (id, application_id, api_key_id, actor, created_at, updated_at, body)
             SELECT pg_temp.bench_uuid7(at, 'n' || id || '/' || n), id, NULL,
                    'recruiter ' || (1 + (hashtext(id::text) & 7)), at, at,
                    'Synthetic note ' || n || ': phone screen went fine, next step agreed.'
             FROM (SELECT a.id, n, least(now(), a.created_at + interval '1 day' * n) AS at
                   FROM applications a CROSS JOIN generate_series(1, 2) n
                   WHERE random() < 0.25) s"
                .to_owned(),
        ),
        (
            "vacuum and analyze",
            "VACUUM (ANALYZE) jobs, candidates, applications, documents, notes".to_owned(),
        ),
    ]
}
