use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match gota_cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                gota_cli::exit::USAGE
            } else {
                gota_cli::exit::OK
            });
        }
    };
    match gota_cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e)
            if e.chain()
                .any(|c| c.is::<gota_cli::commands::StdoutClosed>()) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gota: {e:#}");
            ExitCode::from(gota_cli::exit_code_of(&e))
        }
    }
}
