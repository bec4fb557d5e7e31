//! The baseline intake server as a standalone binary; the server itself lives
//! in `applicant_vault_bench::baseline`.

use applicant_vault_bench::baseline::{self, Args};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    baseline::run(Args::parse()).await
}
