fn main() -> std::process::ExitCode {
    oas_platform::module::main(&oas_importer::INFO, oas_importer::run)
}
