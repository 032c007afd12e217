fn main() -> std::process::ExitCode {
    oas::cli::run()
}
