import { Body, Controller, Get, HttpCode, HttpStatus, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBody, ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AccountService, AccountView } from '../accounts/account.service';
import { ApiAuthGuard } from './api-auth.guard';
import { API_PREFIX } from './api-routes';
import { CheckPassphraseDto } from './dto/check-passphrase.dto';
import { SetPassphraseDto } from './dto/set-passphrase.dto';
import { AccountSchema, ErrorSchema, PassphraseCheckSchema } from './openapi/schemas';
import { parseBody } from './request-validation';

@ApiTags('account')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/account`)
@UseGuards(ApiAuthGuard)
export class AccountController {
  constructor(private readonly accounts: AccountService) {}

  @Get()
  @ApiOkResponse({ type: AccountSchema })
  async describe(): Promise<AccountView> {
    return this.accounts.describe();
  }

  /** The verifier is derived client-side with the salt from GET /api/account; Hive never sees the passphrase. */
  @Put('passphrase')
  @ApiBody({ type: SetPassphraseDto })
  @ApiOkResponse({ type: AccountSchema })
  async setPassphrase(@Body() body: unknown): Promise<AccountView> {
    const { verifier, replace } = parseBody(SetPassphraseDto, body);
    return this.accounts.setVerifier(verifier, replace ?? false);
  }

  /** Whether a verifier is the account's: the Console checks a typed passphrase before it puts it in a device's command. */
  @Post('passphrase/check')
  @HttpCode(HttpStatus.OK)
  @ApiBody({ type: CheckPassphraseDto })
  @ApiOkResponse({ type: PassphraseCheckSchema })
  async check(@Body() body: unknown): Promise<{ matches: boolean }> {
    return { matches: await this.accounts.matches(parseBody(CheckPassphraseDto, body).verifier) };
  }
}
