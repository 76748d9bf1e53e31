// The plugin's one Runtime module. It depends on Live Link's interface, not on Epic's OSC plugin: the OSC
// parsing is our own (Private/Core, standard C++ only, checked on the host by unreal_plugin/HostChecks).

using UnrealBuildTool;

public class PmmtalkLiveLink : ModuleRules
{
	public PmmtalkLiveLink(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;

		PublicDependencyModuleNames.AddRange(new string[]
		{
			"Core",
			"CoreUObject",
			"Engine",
			"LiveLinkInterface",
		});

		PrivateDependencyModuleNames.AddRange(new string[]
		{
			"DeveloperSettings",  // the Project Settings page
			"Networking",         // FUdpSocketBuilder, FUdpSocketReceiver
			"Sockets",
		});
	}
}
