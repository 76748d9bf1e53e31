#include "PmmtalkLiveLinkSourceFactory.h"

#include "PmmtalkLiveLinkConfig.h"
#include "PmmtalkLiveLinkLog.h"
#include "PmmtalkLiveLinkSource.h"

#define LOCTEXT_NAMESPACE "PmmtalkLiveLinkSourceFactory"

FText UPmmtalkLiveLinkSourceFactory::GetSourceDisplayName() const
{
	return LOCTEXT("DisplayName", "pmmtalk");
}

FText UPmmtalkLiveLinkSourceFactory::GetSourceTooltip() const
{
	return LOCTEXT("Tooltip", "Receives the pmmtalk-live daemon's OSC stream (speech-driven ARKit face curves) as Live Link subjects. Port and filter: Project Settings > Plugins > pmmtalk Live Link, or the source's details.");
}

ULiveLinkSourceFactory::EMenuType UPmmtalkLiveLinkSourceFactory::GetMenuType() const
{
	return EMenuType::MenuEntry;
}

TSharedPtr<ILiveLinkSource> UPmmtalkLiveLinkSourceFactory::CreateSource(const FString& ConnectionString) const
{
	Pmmtalk::FSourceConfig Config = PmmtalkLiveLink::ProjectDefaults();
	const std::string Problem = ConnectionString.IsEmpty()
		? Pmmtalk::ValidateConfig(Config)
		: Pmmtalk::ParseConnectionString(PmmtalkLiveLink::ToUtf8(ConnectionString), Config);
	if (!Problem.empty())
	{
		UE_LOG(LogPmmtalkLiveLink, Error, TEXT("pmmtalk source not created from '%s': %s"), *ConnectionString,
			*PmmtalkLiveLink::ToFString(Problem));
		return TSharedPtr<ILiveLinkSource>();
	}
	return MakeShared<FPmmtalkLiveLinkSource>(Config);
}

#undef LOCTEXT_NAMESPACE
