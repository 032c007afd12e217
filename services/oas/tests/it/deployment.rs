//! What deploys OAS agrees with the code: the module list everywhere it is
//! written, and the module task definitions carrying every setting the
//! launchers hand a module run.

use std::collections::BTreeSet;
use std::path::PathBuf;

use oas::startup;
use oas_domain::job::Module;
use oas_platform::config::{self, Settings};
use oas_platform::secrets::Secrets;

fn repository_file(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The quoted names of a list that starts after `marker` and ends at `end`.
fn names_after(text: &str, marker: &str, end: char) -> Vec<String> {
    let start = text.find(marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len();
    let list = &text[start..start + text[start..].find(end).expect("the list's end")];
    list.split(|c: char| c.is_whitespace() || c == ',' || c == '"' || c == '[' || c == '(')
        .filter(|s| !s.is_empty() && !s.starts_with('='))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_list_of_modules_is_the_domains() {
    let modules: Vec<String> = Module::ALL.iter().map(|m| m.as_str().to_owned()).collect();
    let infra = repository_file("infra/variables.tf");
    let block = &infra[infra
        .find("variable \"modules\"")
        .expect("the modules variable")..];
    assert_eq!(
        names_after(block, "default     =", ']'),
        modules,
        "infra/variables.tf"
    );
    assert_eq!(
        names_after(&repository_file("scripts/images.sh"), "OAS_MODULES=", ')'),
        modules,
        "scripts/images.sh"
    );
    let dockerfile = repository_file("docker/module.Dockerfile");
    let listed: Vec<String> = names_after(&dockerfile, "MODULE is one of:", '.')
        .into_iter()
        .filter(|s| s != "#")
        .collect();
    assert_eq!(listed, modules, "docker/module.Dockerfile");
}

#[test]
fn module_task_definitions_carry_what_the_launchers_hand_a_run() {
    let settings = Settings::from_vars([
        ("OAS_DATABASE_URL", "postgres://oas:secret@db:5432/oas"),
        ("OAS_STORAGE_URL", "s3://objects/oas"),
        ("OAS_SNAPSHOTS_URL", "mongodb://db/oas"),
        (
            "OAS_WEBHOOK_SECRET",
            "a-webhook-key-of-thirty-two-bytes-or-more",
        ),
        (
            "OAS_JWT_SECRET",
            "a-jwt-key-of-thirty-two-bytes-or-more-too",
        ),
        ("OAS_GOOGLE_API_KEY", "google"),
        ("OAS_DROPBOX_APP_KEY", "dropbox"),
        ("OAS_DROPBOX_APP_SECRET", "dropbox-secret"),
    ])
    .unwrap();
    let secrets = Secrets::resolve(&settings).unwrap();
    let infra = repository_file("infra/main.tf");
    let locals: BTreeSet<&str> = infra
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("OAS_") || word.starts_with("AWS_"))
        .collect();
    let mut missing = Vec::new();
    for (name, value) in startup::module_env(&settings, &secrets) {
        let default = config::VARIABLES
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.default);
        // A setting left at its default needs no line in the task definition.
        if default == Some(value.as_str()) || locals.contains(name.as_str()) {
            continue;
        }
        missing.push(name);
    }
    assert!(
        missing.is_empty(),
        "infra/main.tf does not give module tasks {missing:?}"
    );
    assert!(locals.contains("AWS_REGION"));
    for forwarded in startup::FORWARDED_TO_CONTAINERS {
        assert!(
            forwarded.starts_with("AWS_") || config::VARIABLES.iter().any(|v| v.name == *forwarded),
            "{forwarded}"
        );
    }
    let ecs = repository_file("infra/ecs.tf");
    let module = &ecs[ecs
        .find("resource \"aws_ecs_task_definition\" \"module\"")
        .unwrap()..];
    assert!(module.contains("secrets     = local.module_secrets"));
    assert!(
        module
            .contains("image       = \"${var.image_repository}/oas-${each.key}:${var.image_tag}\"")
    );
    assert!(
        !infra[infra.find("module_secrets = ").unwrap()..infra.find("gateway_secrets").unwrap()]
            .contains("OAS_JWT_SECRET"),
        "modules never get the JWT key"
    );
}
