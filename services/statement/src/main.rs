#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    oas_platform::module::main(&oas_statement::INFO, oas_statement::run)
}
