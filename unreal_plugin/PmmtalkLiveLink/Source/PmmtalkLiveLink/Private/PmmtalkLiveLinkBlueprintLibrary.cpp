#include "PmmtalkLiveLinkBlueprintLibrary.h"

#include "Features/IModularFeatures.h"
#include "ILiveLinkClient.h"
#include "PmmtalkLiveLinkConfig.h"
#include "PmmtalkLiveLinkLog.h"
#include "PmmtalkLiveLinkSettings.h"
#include "PmmtalkLiveLinkSource.h"

bool UPmmtalkLiveLinkBlueprintLibrary::CreatePmmtalkLiveLinkSource(const FPmmtalkLiveLinkOptions& Options, FLiveLinkSourceHandle& SourceHandle)
{
	const Pmmtalk::FSourceConfig Config = PmmtalkLiveLink::ToSourceConfig(Options);
	const std::string Problem = Pmmtalk::ValidateConfig(Config);
	if (!Problem.empty())
	{
		UE_LOG(LogPmmtalkLiveLink, Error, TEXT("CreatePmmtalkLiveLinkSource: %s"), *PmmtalkLiveLink::ToFString(Problem));
		return false;
	}
	IModularFeatures& Features = IModularFeatures::Get();
	if (!Features.IsModularFeatureAvailable(ILiveLinkClient::ModularFeatureName))
	{
		UE_LOG(LogPmmtalkLiveLink, Error, TEXT("CreatePmmtalkLiveLinkSource: Live Link is not running (is the Live Link plugin enabled?)"));
		return false;
	}
	ILiveLinkClient& Client = Features.GetModularFeature<ILiveLinkClient>(ILiveLinkClient::ModularFeatureName);
	TSharedPtr<ILiveLinkSource> Source = MakeShared<FPmmtalkLiveLinkSource>(Config);
	Client.AddSource(Source);
	SourceHandle.SetSourcePointer(Source);
	return true;
}

bool UPmmtalkLiveLinkBlueprintLibrary::RemovePmmtalkLiveLinkSource(FLiveLinkSourceHandle& SourceHandle)
{
	if (!SourceHandle.SourcePointer.IsValid())
	{
		return false;
	}
	IModularFeatures& Features = IModularFeatures::Get();
	if (Features.IsModularFeatureAvailable(ILiveLinkClient::ModularFeatureName))
	{
		ILiveLinkClient& Client = Features.GetModularFeature<ILiveLinkClient>(ILiveLinkClient::ModularFeatureName);
		Client.RemoveSource(SourceHandle.SourcePointer);
	}
	SourceHandle.SourcePointer.Reset();
	return true;
}

FPmmtalkLiveLinkOptions UPmmtalkLiveLinkBlueprintLibrary::GetPmmtalkLiveLinkDefaults()
{
	return GetDefault<UPmmtalkLiveLinkSettings>()->Defaults;
}

FString UPmmtalkLiveLinkBlueprintLibrary::MakePmmtalkConnectionString(const FPmmtalkLiveLinkOptions& Options)
{
	return PmmtalkLiveLink::ToFString(Pmmtalk::ToConnectionString(PmmtalkLiveLink::ToSourceConfig(Options)));
}
