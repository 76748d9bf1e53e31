#include "PmmtalkLiveLinkSettings.h"

#define LOCTEXT_NAMESPACE "PmmtalkLiveLinkSettings"

FName UPmmtalkLiveLinkSettings::GetCategoryName() const
{
	return FName(TEXT("Plugins"));
}

#if WITH_EDITOR
FText UPmmtalkLiveLinkSettings::GetSectionText() const
{
	return LOCTEXT("Section", "pmmtalk Live Link");
}

FText UPmmtalkLiveLinkSettings::GetSectionDescription() const
{
	return LOCTEXT("SectionDescription", "Defaults for new pmmtalk Live Link sources: the port the pmmtalk-live daemon sends to, the address to listen on, subjects, keep-alive and VMC reception.");
}
#endif

#undef LOCTEXT_NAMESPACE
