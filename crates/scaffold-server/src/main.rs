//! The `scaffold` command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = scaffold_server::cli::Cli::parse();
    match scaffold_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
