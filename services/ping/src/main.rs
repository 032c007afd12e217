fn main() -> std::process::ExitCode {
    oas_platform::module::main(&oas_ping::INFO, oas_ping::run)
}
