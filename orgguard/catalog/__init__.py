"""The control catalog: every control module registers here, in display order."""

from orgguard.catalog import (
    ecs_readonly_root_filesystem,
    ecs_service_public_ip,
    ecs_taskset_public_ip,
    restricted_common_ports,
    restricted_ssh,
)
from orgguard.catalog.base import Control, ControlSettings

CATALOG: dict[str, Control] = {
    module.CONTROL.id: module.CONTROL
    for module in (
        restricted_ssh,
        restricted_common_ports,
        ecs_service_public_ip,
        ecs_readonly_root_filesystem,
        ecs_taskset_public_ip,
    )
}

__all__ = ["CATALOG", "Control", "ControlSettings"]
