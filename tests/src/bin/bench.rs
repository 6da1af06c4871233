//! `cargo run --release -p jiuloop-tests --bin bench -- [--quick] [--parts edit,initial,reconnect,rss]`:
//! issue 2's figures. See `jiuloop_tests::load::bench` and `--help`.

use clap::Parser;
use jiuloop_tests::load::bench::BenchArgs;
use std::process::ExitCode;

fn main() -> ExitCode {
    jiuloop_tests::load::procfs::lean_malloc_or_reexec();
    let args = BenchArgs::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(jiuloop_tests::load::bench::main(args)) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(n) => {
            eprintln!("bench: {n} errors");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
