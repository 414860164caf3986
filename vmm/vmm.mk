# Generic VM logic: VMs, vCPUs, the scheduler, guest-virtual walks, the monitor's VM commands.
CORE_SRCS += vmm/vm.c vmm/vm_gpa.c vmm/vcpu.c vmm/sched.c vmm/guest_walk.c vmm/vm_monitor.c
