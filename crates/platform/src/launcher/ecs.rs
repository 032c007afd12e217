use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::DisplayErrorContext;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ContainerOverride, KeyValuePair, LaunchType,
    NetworkConfiguration, TaskOverride,
};
use oas_domain::job::Job;

use super::LaunchError;

/// Where and how module runs start as Fargate tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsSettings {
    pub cluster: String,
    /// Task definition family of a module: this prefix and the module name
    /// (`oas-importer`); its container is named after the module (`importer`).
    pub task_definition_prefix: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}

/// Starts module runs as ECS tasks: one `RunTask` per run, the job in the
/// container's `OAS_JOB` environment override. The task ARN is the run's
/// reference; completion comes back as an event, and silence is caught by
/// the gateway's timeout sweep.
#[derive(Debug, Clone)]
pub struct EcsLauncher {
    client: Client,
    settings: EcsSettings,
}

impl EcsLauncher {
    /// With the standard AWS configuration (`AWS_ENDPOINT_URL_ECS` for a
    /// local stand-in).
    pub async fn from_environment(settings: EcsSettings) -> Self {
        let shared = aws_config::load_from_env().await;
        Self::new(Client::new(&shared), settings)
    }

    pub fn new(client: Client, settings: EcsSettings) -> Self {
        Self { client, settings }
    }

    pub fn task_definition(&self, job: &Job) -> String {
        format!("{}{}", self.settings.task_definition_prefix, job.module)
    }

    /// Starts the task; returns its ARN.
    pub async fn launch(&self, job: &Job) -> Result<String, LaunchError> {
        let json = serde_json::to_string(job).map_err(|e| LaunchError::Start(e.to_string()))?;
        let network = AwsVpcConfiguration::builder()
            .set_subnets(Some(self.settings.subnets.clone()))
            .set_security_groups(Some(self.settings.security_groups.clone()))
            .assign_public_ip(if self.settings.assign_public_ip {
                AssignPublicIp::Enabled
            } else {
                AssignPublicIp::Disabled
            })
            .build()
            .map_err(|e| LaunchError::Start(e.to_string()))?;
        let container = ContainerOverride::builder()
            .name(job.module.as_str())
            .environment(KeyValuePair::builder().name("OAS_JOB").value(json).build())
            .build();
        let output = self
            .client
            .run_task()
            .cluster(&self.settings.cluster)
            .task_definition(self.task_definition(job))
            .launch_type(LaunchType::Fargate)
            .count(1)
            .started_by(format!("oas:{}", &job.job_id[..job.job_id.len().min(28)]))
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(network)
                    .build(),
            )
            .overrides(
                TaskOverride::builder()
                    .container_overrides(container)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| LaunchError::Start(DisplayErrorContext(&e).to_string()))?;
        if let Some(failure) = output.failures().first() {
            return Err(LaunchError::Start(format!(
                "ECS refused the task: {} {}",
                failure.reason().unwrap_or("unknown reason"),
                failure.detail().unwrap_or("")
            )));
        }
        output
            .tasks()
            .first()
            .and_then(|task| task.task_arn())
            .map(str::to_owned)
            .ok_or_else(|| LaunchError::Start("ECS started no task".into()))
    }
}
