"""HCL Workload Automation REST API V2: client, models, OQL and a simulator. No UI."""
