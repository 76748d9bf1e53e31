// The plugin's one Runtime module. It depends on Live Link's interface, not on Epic's OSC plugin: the OSC
// parsing is our own (Private/Protocol, standard C++ only, checked on the host by unreal_plugin/HostChecks).

using UnrealBuildTool;

public class PmmtalkLiveLink : ModuleRules
{
	public PmmtalkLiveLink(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;

		// The sources include the protocol core as "Protocol/PmmtalkReceiver.h", relative to Private/.
		PrivateIncludePaths.Add(System.IO.Path.Combine(ModuleDirectory, "Private"));

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
