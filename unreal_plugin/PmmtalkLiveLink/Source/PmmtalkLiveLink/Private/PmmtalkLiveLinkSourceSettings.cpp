#include "PmmtalkLiveLinkSourceSettings.h"

UPmmtalkLiveLinkSourceSettings::UPmmtalkLiveLinkSourceSettings()
{
	Mode = ELiveLinkSourceMode::Latest;
}
