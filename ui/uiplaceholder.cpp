// Placeholder until the diagram lands.
namespace netmap { void netmapUiPlaceholder() { } }
